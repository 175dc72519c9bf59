using StitchFin.ServiceDefaults.Identity;
using StitchFin.Tenancy.Keys;
using StitchFin.Testing;

namespace StitchFin.Tenancy.Tests;

public sealed class TenancyDatabaseOutageTests : DatabaseOutageConformance<Program>
{
    protected override IReadOnlyList<OutageRoute> Routes =>
    [
        new(HttpMethod.Get, "/keys"),
        new(HttpMethod.Post, "/keys", new { name = "During the outage" }),
        new(HttpMethod.Delete, $"/keys/{Guid.NewGuid()}"),
        new(HttpMethod.Get, "/tenants/me"),
        new(HttpMethod.Post, "/tenants", new { name = "Outage Inc" }, IdentityKind.Admin),
        new(HttpMethod.Post, "/internal/keys/verify", new { apiKey = ApiKeyFormat.Generate().Plaintext }, IdentityKind.Service),
    ];
}
