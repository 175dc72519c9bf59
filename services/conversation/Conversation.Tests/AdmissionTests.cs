using System.Net;
using Microsoft.Extensions.DependencyInjection;
using StitchFin.Conversation.Tests.Infrastructure;
using StitchFin.ServiceDefaults.Http;

namespace StitchFin.Conversation.Tests;

/// <summary>Conversation at a bound of one request at work and one waiting, however long it waits.</summary>
public sealed class NarrowAdmissionFixture : ConversationFixture
{
    protected override void Configure(IDictionary<string, string?> configuration)
    {
        configuration["Admission:PermitLimit"] = "1";
        configuration["Admission:QueueLimit"] = "1";
        configuration["Admission:MaxQueueWait"] = "00:05:00";
    }
}

/// <summary>
/// A send that waited for a permit while its client gave up is never started: it takes no idempotency claim, never
/// reaches providers and charges nothing, so the same key later runs as a first send. Beyond the bound, a send is
/// answered 503 with Retry-After at once.
/// </summary>
public sealed class AdmissionTests : IClassFixture<NarrowAdmissionFixture>
{
    private readonly NarrowAdmissionFixture _fixture;

    public AdmissionTests(NarrowAdmissionFixture fixture)
    {
        _fixture = fixture;
        fixture.Providers.Reset();
    }

    private long Queued => _fixture.Factory.Services.GetRequiredService<AdmissionLimiter>().Limiter.GetStatistics()!.CurrentQueuedCount;

    [Fact]
    public async Task A_queued_send_whose_client_went_away_never_reaches_providers_and_a_send_beyond_the_bound_is_refused_503()
    {
        var tenant = _fixture.NewTenant();
        var session = await tenant.CreateSessionAsync();
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        _fixture.Providers.Reset(async (request, context) =>
        {
            await release.Task;
            return await FakeProviders.Succeed(request, context);
        });

        var working = tenant.SendMessageAsync(session, "holds-the-permit", "First");
        await WaitUntilAsync(() => _fixture.Providers.Calls == 1);

        using var gaveUp = new CancellationTokenSource();
        var abandoned = SendAsync(tenant, session, "given-up-while-queued", gaveUp.Token);
        await WaitUntilAsync(() => Queued == 1);

        var refused = await tenant.SendMessageAsync(session, "beyond-the-bound", "Third");
        Assert.Equal(HttpStatusCode.ServiceUnavailable, refused.Status);
        Assert.Equal("1", refused.RetryAfter);
        Assert.Equal("urn:stitchfin:problem:overloaded", refused.Json["type"]!.GetValue<string>());

        await gaveUp.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => abandoned);
        await WaitUntilAsync(() => Queued == 0);
        release.SetResult();
        Assert.Equal(HttpStatusCode.Created, (await working).Status);
        Assert.Equal(1, _fixture.Providers.Calls);
        Assert.Equal(2, (await tenant.GetOkAsync($"/sessions/{session}"))["messageCount"]!.GetValue<int>());

        // Neither the abandoned key nor the refused one was claimed: each now runs as a first send.
        foreach (var key in new[] { "given-up-while-queued", "beyond-the-bound" })
        {
            var reply = await tenant.SendMessageAsync(session, key, "Again");
            Assert.Equal(HttpStatusCode.Created, reply.Status);
            Assert.False(reply.Replayed);
        }

        Assert.Equal(3, _fixture.Providers.Calls);
        // Providers' own admission control counts a body by its declared length (an undeclared one by a nominal size).
        Assert.All(_fixture.Providers.ContentLengths, length => Assert.True(length > 0));
    }

    private static async Task<HttpResponseMessage> SendAsync(TenantClient tenant, Guid session, string key, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, $"/sessions/{session}/messages")
        {
            Content = new StringContent("""{"content":"Second"}""", System.Text.Encoding.UTF8, "application/json"),
        };
        request.Headers.Add("Idempotency-Key", key);
        return await tenant.Http.SendAsync(request, cancellationToken);
    }

    private static async Task WaitUntilAsync(Func<bool> condition)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(1));
        while (!condition())
        {
            await Task.Delay(10, timeout.Token);
        }
    }
}
