using Microsoft.AspNetCore.Mvc;

namespace StitchFin.Gateway.Http;

/// <summary>Problem responses the edge writes itself (authentication, limits, proxy errors, unknown paths).</summary>
public static class EdgeProblems
{
    /// <summary>Writes a problem; <paramref name="type"/> is one of the edge's own (<c>ProblemTypes</c>), else the status's default.</summary>
    public static async Task WriteAsync(HttpContext context, int status, string title, string detail, string? type = null)
    {
        context.Response.StatusCode = status;
        var problems = context.RequestServices.GetRequiredService<IProblemDetailsService>();
        await problems.WriteAsync(new ProblemDetailsContext
        {
            HttpContext = context,
            ProblemDetails = new ProblemDetails { Status = status, Title = title, Detail = detail, Type = type },
        });
    }

    /// <summary>Adds the edge's request id to every problem and a detail to the bare 404/405 of routing.</summary>
    public static IServiceCollection AddEdgeProblemDetails(this IServiceCollection services) =>
        services.PostConfigure<ProblemDetailsOptions>(options =>
        {
            var shared = options.CustomizeProblemDetails;
            options.CustomizeProblemDetails = context =>
            {
                shared?.Invoke(context);
                var request = context.HttpContext.Request;
                context.ProblemDetails.Extensions.TryAdd("requestId", RequestIds.Get(context.HttpContext));
                context.ProblemDetails.Detail ??= context.ProblemDetails.Status switch
                {
                    StatusCodes.Status404NotFound => $"No API route matches {request.Method} {request.Path}.",
                    StatusCodes.Status405MethodNotAllowed => $"{request.Method} is not allowed on {request.Path}.",
                    _ => null,
                };
            };
        });
}
