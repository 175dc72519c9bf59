using StitchFin.Testing;

namespace StitchFin.Providers.Tests;

public sealed class ProvidersConformanceTests : InternalServiceConformance<Program>
{
    protected override string ProtectedPath => "/internal/circuits";

    protected override IReadOnlyList<string> ReadinessChecks => [];
}
