using System.Net;
using System.Net.Sockets;
using StitchFin.Contracts.Providers;
using StitchFin.Conversation.Completions;

namespace StitchFin.Conversation.Tests.Unit;

public sealed class ProvidersClientTests
{
    [Fact]
    public async Task An_unreachable_providers_service_is_told_to_the_client_without_its_address_which_only_the_log_gets()
    {
        var closed = ClosedPort();
        using var http = new HttpClient { BaseAddress = closed };
        var client = new ProvidersClient(http, TimeProvider.System);

        var outcome = await client.CompleteAsync(new CompletionRequest("VendorA", null, "", "hi"), CancellationToken.None);

        var unavailable = Assert.IsType<CompletionOutcome.ProvidersUnavailable>(outcome);
        Assert.DoesNotContain(closed.Port.ToString(System.Globalization.CultureInfo.InvariantCulture), unavailable.Detail, StringComparison.Ordinal);
        Assert.DoesNotContain("127.0.0.1", unavailable.Detail, StringComparison.Ordinal);
        Assert.Contains("could not be reached", unavailable.Detail, StringComparison.Ordinal);
        Assert.False(string.IsNullOrEmpty(unavailable.Cause));
    }

    /// <summary>A loopback port that was just free: connecting to it is refused.</summary>
    private static Uri ClosedPort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return new Uri($"http://127.0.0.1:{port}/");
    }
}
