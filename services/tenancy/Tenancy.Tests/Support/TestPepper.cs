using StitchFin.Testing;

namespace StitchFin.Tenancy.Tests.Support;

/// <summary>The pepper the shared test configuration gives tenancy, for tests that recompute a stored hash.</summary>
internal static class TestPepper
{
    public const string Value = TestInfrastructure.TestPepper;
}
