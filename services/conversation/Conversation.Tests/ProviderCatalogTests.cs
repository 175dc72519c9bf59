using System.Net;
using StitchFin.Conversation.Completions;
using StitchFin.Conversation.Tests.Infrastructure;

namespace StitchFin.Conversation.Tests;

/// <summary>Agents are checked against the providers service's catalogue, which conversation keeps for a short while.</summary>
public sealed class ProviderCatalogTests(FakeClockConversationFixture fixture) : IClassFixture<FakeClockConversationFixture>
{
    [Fact]
    public async Task While_the_catalogue_cannot_be_read_agents_cannot_be_written_and_nothing_is_saved()
    {
        var tenant = fixture.NewTenant();
        var existing = await tenant.CreateAgentAsync();
        fixture.Providers.Catalog = null;
        try
        {
            // Within its cache time the catalogue already read still serves.
            Assert.Equal(HttpStatusCode.Created, (await tenant.SendAsync(HttpMethod.Post, "/agents", """{"name":"Bot","primaryProvider":"VendorA"}""")).Status);
            fixture.Clock.Advance(ProviderCatalog.CacheDuration + TimeSpan.FromSeconds(1));

            var created = await tenant.SendAsync(HttpMethod.Post, "/agents", """{"name":"Bot 2","primaryProvider":"VendorA"}""");
            var updated = await tenant.SendAsync(HttpMethod.Put, $"/agents/{existing}", """{"name":"Renamed","primaryProvider":"VendorA"}""");

            Assert.Equal(HttpStatusCode.ServiceUnavailable, created.Status);
            Assert.Equal("application/problem+json", created.ContentType);
            Assert.Equal("1", created.RetryAfter);
            Assert.Equal(HttpStatusCode.ServiceUnavailable, updated.Status);
            Assert.Equal("Helper", (await tenant.GetOkAsync($"/agents/{existing}"))["name"]!.GetValue<string>());
            Assert.Equal(2, (await tenant.GetOkAsync("/agents")).AsArray().Count);
        }
        finally
        {
            fixture.Providers.Catalog = FakeProviders.DefaultCatalog;
        }

        // Once the catalogue answers again, so do agents.
        Assert.Equal(HttpStatusCode.Created, (await tenant.SendAsync(HttpMethod.Post, "/agents", """{"name":"Bot 3","primaryProvider":"VendorA"}""")).Status);
    }
}
