using System.Net;

namespace StitchFin.EndToEnd.Tests;

[Collection(SystemCollection.Name)]
public sealed class LoggingTests(StitchFinSystem system)
{
    [Fact]
    public async Task No_service_ever_logs_an_api_key()
    {
        var tenant = await Tenant.CreateAsync(system);
        var created = await tenant.ExpectAsync(HttpMethod.Post, "/keys", HttpStatusCode.Created, new { name = "logged?" });
        var secondKey = created["apiKey"]!.GetValue<string>();
        var agent = (await tenant.CreateAgentAsync())["id"]!.GetValue<Guid>();
        var session = (await tenant.CreateSessionAsync(agent))["id"]!.GetValue<Guid>();
        await tenant.SendMessageAsync(session, "Is my key safe?");
        using (var second = system.CreateClient(secondKey))
        {
            Assert.Equal(HttpStatusCode.OK, (await second.GetAsync("/tenants/me")).StatusCode);
        }

        await tenant.ExpectAsync(HttpMethod.Delete, $"/keys/{created["id"]}", HttpStatusCode.NoContent);
        using (var revoked = system.CreateClient(secondKey))
        {
            await revoked.GetAsync("/agents");
        }

        var lines = system.LogLines().ToList();
        Assert.NotEmpty(lines);
        foreach (var key in new[] { tenant.ApiKey, secondKey })
        {
            // The random tail alone must not leak either (a logger that trims a prefix would still leak it).
            var secret = key[^24..];
            Assert.DoesNotContain(lines, line => line.Contains(key, StringComparison.Ordinal) || line.Contains(secret, StringComparison.Ordinal));
        }
    }
}
