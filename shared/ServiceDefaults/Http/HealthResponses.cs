using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace StitchFin.ServiceDefaults.Http;

/// <summary>Writes <c>{"status":"ok"|"unhealthy","checks":{name:status}}</c> so the edge can say which service is not ready.</summary>
public static class HealthResponses
{
    public static Task WriteAsync(HttpContext context, HealthReport report)
    {
        context.Response.ContentType = "application/json";
        var body = new HealthBody(
            report.Status == HealthStatus.Healthy ? "ok" : report.Status.ToString().ToLowerInvariant(),
            report.Entries.ToDictionary(entry => entry.Key, entry => entry.Value.Status.ToString().ToLowerInvariant()));
        return JsonSerializer.SerializeAsync(context.Response.Body, body, Extensions.JsonOptions, context.RequestAborted);
    }

    public sealed record HealthBody(string Status, IReadOnlyDictionary<string, string> Checks);
}
