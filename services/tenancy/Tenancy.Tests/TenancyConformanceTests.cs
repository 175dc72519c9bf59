using StitchFin.Testing;

namespace StitchFin.Tenancy.Tests;

public sealed class TenancyConformanceTests : InternalServiceConformance<Program>
{
    protected override string ProtectedPath => "/tenants/me";

    protected override IReadOnlyList<string> ReadinessChecks => ["database", "masstransit-bus"];
}
