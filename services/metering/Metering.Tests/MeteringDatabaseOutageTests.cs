using StitchFin.Testing;

namespace StitchFin.Metering.Tests;

public sealed class MeteringDatabaseOutageTests : DatabaseOutageConformance<Program>
{
    protected override IReadOnlyList<OutageRoute> Routes =>
    [
        new(HttpMethod.Get, "/usage?from=2026-01-01&to=2026-12-31"),
    ];
}
