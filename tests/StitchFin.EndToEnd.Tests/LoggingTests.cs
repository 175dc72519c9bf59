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

    [Fact]
    public async Task No_service_ever_logs_or_answers_a_providers_key()
    {
        var tenant = await Tenant.CreateAsync(system);
        var model = $"key-check-{Guid.NewGuid():N}";
        // A success, a failure and a refusal: every path that could describe the call.
        system.Upstream.Script(model, Testing.Upstream.UpstreamStep.Reply("fine"), Testing.Upstream.UpstreamStep.Status(500),
            Testing.Upstream.UpstreamStep.ContentPolicyViolation());
        var agent = await tenant.ExpectAsync(HttpMethod.Post, "/agents", HttpStatusCode.Created,
            new { name = "key-check", primaryProvider = StitchFinSystem.UpstreamProvider, primaryModel = model });
        var session = (await tenant.CreateSessionAsync(agent["id"]!.GetValue<Guid>()))["id"]!.GetValue<Guid>();
        var answers = new List<string>();
        for (var i = 0; i < 3; i++)
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, $"/sessions/{session}/messages")
            {
                Content = System.Net.Http.Json.JsonContent.Create(new { content = "Is the provider's key safe?" }),
            };
            request.Headers.Add("Idempotency-Key", Guid.NewGuid().ToString());
            using var response = await tenant.Client.SendAsync(request);
            answers.Add(await response.Content.ReadAsStringAsync());
        }

        answers.Add(await tenant.Client.GetStringAsync("/providers"));
        answers.Add(await tenant.Client.GetStringAsync($"/sessions/{session}/transcript"));

        var secret = StitchFinSystem.UpstreamApiKey;
        Assert.All(answers, answer => Assert.DoesNotContain(secret, answer, StringComparison.Ordinal));
        Assert.DoesNotContain(system.LogLines(), line => line.Contains(secret, StringComparison.Ordinal) || line.Contains(secret[^16..], StringComparison.Ordinal));
    }
}
