using System.Net;
using System.Text.Json.Nodes;

namespace StitchFin.FaultTests;

public static class Usage
{
    private static readonly TimeZoneInfo Chicago = TimeZoneInfo.FindSystemTimeZoneById("America/Chicago");

    /// <summary>Polls this tenant's usage around today until it counts <paramref name="messages"/> or the wait is over.</summary>
    public static async Task<JsonNode> WaitForTotalsAsync(Tenant tenant, int messages, TimeSpan wait)
    {
        var today = DateOnly.FromDateTime(TimeZoneInfo.ConvertTime(DateTimeOffset.UtcNow, Chicago).DateTime);
        var path = $"/usage?from={today.AddDays(-1):yyyy-MM-dd}&to={today.AddDays(1):yyyy-MM-dd}";
        var deadline = DateTime.UtcNow + wait;
        while (true)
        {
            var usage = await tenant.ExpectAsync(HttpMethod.Get, path, HttpStatusCode.OK);
            var counted = usage["totals"]!["messages"]!.GetValue<int>();
            if (counted >= messages || DateTime.UtcNow > deadline)
            {
                // A moment more, so a double count that is still on its way would show.
                await Task.Delay(500);
                return await tenant.ExpectAsync(HttpMethod.Get, path, HttpStatusCode.OK);
            }

            await Task.Delay(200);
        }
    }
}
