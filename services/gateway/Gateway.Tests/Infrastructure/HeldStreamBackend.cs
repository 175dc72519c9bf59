using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace StitchFin.Gateway.Tests.Infrastructure;

/// <summary>
/// A service stand-in that answers every request (but its readiness) with an event stream whose first event comes at
/// once and whose rest waits until the test releases it.
/// </summary>
public sealed class HeldStreamBackend : IAsyncDisposable
{
    public const string FirstEvent = "data: first";
    public const string Rest = "data: second\n\ndata: [DONE]\n\n";

    private readonly WebApplication _app;
    private readonly TaskCompletionSource _released = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private HeldStreamBackend(WebApplication app)
    {
        _app = app;
        app.MapGet("/health/ready", () => Results.Ok(new { status = "ok" }));
        app.Run(async context =>
        {
            context.Response.ContentType = "text/event-stream";
            await context.Response.WriteAsync(FirstEvent + "\n\n", context.RequestAborted);
            await context.Response.Body.FlushAsync(context.RequestAborted);
            await _released.Task.WaitAsync(context.RequestAborted);
            await context.Response.WriteAsync(Rest, context.RequestAborted);
        });
    }

    public string Address { get; private set; } = "";

    public static async Task<HeldStreamBackend> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        var backend = new HeldStreamBackend(builder.Build());
        await backend._app.StartAsync();
        backend.Address = backend._app.Urls.Single().TrimEnd('/') + "/";
        return backend;
    }

    public void Release() => _released.TrySetResult();

    public async ValueTask DisposeAsync()
    {
        Release();
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
