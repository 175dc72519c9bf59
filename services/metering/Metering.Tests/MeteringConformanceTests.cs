using StitchFin.Testing;

namespace StitchFin.Metering.Tests;

public sealed class MeteringConformanceTests : InternalServiceConformance<Program>
{
    protected override string ProtectedPath => "/usage?from=2026-01-01&to=2026-01-02";

    protected override IReadOnlyList<string> ReadinessChecks => ["database", "masstransit-bus"];
}
