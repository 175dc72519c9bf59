using Microsoft.Extensions.FileProviders;
using Microsoft.Extensions.Options;
using Microsoft.Net.Http.Headers;

namespace StitchFin.Gateway.Dashboard;

/// <summary>
/// Serves the built web dashboard when there is one: its files, and <c>index.html</c> for any other GET that no
/// API route matched (client-side routes). Runs after routing, so API routes always win.
/// </summary>
public static partial class DashboardHosting
{
    /// <summary>
    /// The dashboard's own files only: its scripts and styles from this origin (React and the chart library set
    /// inline style attributes, hence <c>'unsafe-inline'</c> for styles alone), the API on the same origin, spoken
    /// replies played from <c>blob:</c> URLs, and never inside another site's frame.
    /// </summary>
    public const string ContentSecurityPolicy =
        "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; media-src 'self' blob:; "
        + "connect-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'";

    /// <summary>Paths that belong to the API (or must stay unreachable) are never answered with the dashboard.</summary>
    private static readonly string[] ApiPrefixes = ["/tenants", "/keys", "/agents", "/sessions", "/usage", "/health", "/internal", "/vendors", "/v1"];

    public static WebApplication UseDashboard(this WebApplication app)
    {
        var logger = app.Services.GetRequiredService<ILoggerFactory>().CreateLogger(typeof(DashboardHosting));
        var root = ResolveRoot(app.Services.GetRequiredService<IOptions<EdgeOptions>>().Value.DashboardPath, app.Environment.ContentRootPath);
        if (root is null || !File.Exists(Path.Combine(root, "index.html")))
        {
            LogNoDashboard(logger, root ?? "(none)");
            return app;
        }

        LogServing(logger, root);
        var files = new PhysicalFileProvider(root);
        app.UseStaticFiles(new StaticFileOptions { FileProvider = files, OnPrepareResponse = file => AddSecurityHeaders(file.Context.Response) });
        var index = files.GetFileInfo("index.html");
        app.Use((context, next) =>
        {
            var request = context.Request;
            if (context.GetEndpoint() is not null || !(HttpMethods.IsGet(request.Method) || HttpMethods.IsHead(request.Method))
                || IsApiPath(request.Path) || Path.HasExtension(request.Path.Value))
            {
                return next(context);
            }

            context.Response.ContentType = "text/html; charset=utf-8";
            context.Response.Headers.CacheControl = "no-cache";
            AddSecurityHeaders(context.Response);
            context.Response.ContentLength = index.Length;
            return HttpMethods.IsHead(request.Method) ? Task.CompletedTask : context.Response.SendFileAsync(index, context.RequestAborted);
        });
        return app;
    }

    private static void AddSecurityHeaders(HttpResponse response)
    {
        response.Headers.ContentSecurityPolicy = ContentSecurityPolicy;
        response.Headers.XContentTypeOptions = "nosniff";
        response.Headers.XFrameOptions = "DENY";
    }

    internal static string? ResolveRoot(string? configured, string contentRoot)
    {
        if (!string.IsNullOrWhiteSpace(configured))
        {
            var path = Path.GetFullPath(configured, contentRoot);
            return Directory.Exists(path) ? path : null;
        }

        for (var dir = new DirectoryInfo(contentRoot); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "StitchFin.sln")))
            {
                var dist = Path.Combine(dir.FullName, "web", "dist");
                return Directory.Exists(dist) ? dist : null;
            }
        }

        return null;
    }

    private static bool IsApiPath(PathString path)
    {
        foreach (var prefix in ApiPrefixes)
        {
            if (path.StartsWithSegments(prefix, StringComparison.OrdinalIgnoreCase))
            {
                return true;
            }
        }

        return false;
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Serving the dashboard from {Root}.")]
    private static partial void LogServing(ILogger logger, string root);

    [LoggerMessage(Level = LogLevel.Debug, Message = "No built dashboard at {Root}; the edge serves the API only.")]
    private static partial void LogNoDashboard(ILogger logger, string root);
}
