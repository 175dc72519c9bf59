using System.Diagnostics;

namespace StitchFin.EndToEnd.Tests;

/// <summary>
/// The dashboard in headless Chromium (Debian's, driven by playwright-core) against the real system through the
/// edge: web/e2e/dashboard.e2e.mjs signs in, manages agents (one on the openai-compatible upstream), sessions and keys,
/// chats, speaks and reads usage.
/// Screenshots land in web/e2e/artifacts.
/// </summary>
[Collection(SystemCollection.Name)]
public sealed class DashboardBrowserTests(StitchFinSystem system)
{
    [Fact]
    public async Task Dashboard_flows_work_in_a_real_browser()
    {
        var web = Path.Combine(RepositoryRoot.Path, "web");
        Assert.True(File.Exists(Path.Combine(web, "dist", "index.html")), "web/dist is missing: build the dashboard first (test.sh does)");
        var start = new ProcessStartInfo("node", ["e2e/dashboard.e2e.mjs"])
        {
            WorkingDirectory = web,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        start.Environment["EDGE_URL"] = system.EdgeUrl.ToString();
        start.Environment["ADMIN_KEY"] = StitchFinSystem.AdminKey;
        // An agent on the openai-compatible provider, made through the form and chatted with in the playground.
        var model = $"dashboard-{Guid.NewGuid():N}"[..24];
        system.Upstream.Script(model, Testing.Upstream.UpstreamStep.Reply("Hello from the real upstream.", reportedModel: "dashboard-model-v1"));
        start.Environment["UPSTREAM_PROVIDER"] = StitchFinSystem.UpstreamProvider;
        start.Environment["UPSTREAM_MODEL"] = model;
        start.Environment["UPSTREAM_REPLY"] = "Hello from the real upstream.";
        start.Environment["UPSTREAM_REPLY_MODEL"] = "dashboard-model-v1";
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var errors = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(5));
        await process.WaitForExitAsync(timeout.Token);
        Assert.True(process.ExitCode == 0, $"{await output}\n{await errors}");
        Assert.Contains(" 0 failed", await output, StringComparison.Ordinal);
    }
}
