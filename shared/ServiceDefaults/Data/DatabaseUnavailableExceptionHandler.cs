using System.Net.Sockets;
using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.EntityFrameworkCore.Storage;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace StitchFin.ServiceDefaults.Data;

/// <summary>
/// Turns "the database cannot be reached or refused for now" (a crash, a restart, a full connection pool, a
/// connection dropped mid-statement) into <c>503</c> with <c>Retry-After</c>: the client did nothing wrong and may
/// retry, with the same Idempotency-Key where it sent one. Every write is one transaction, so nothing is half-written.
/// Other database errors stay a <c>500</c>.
/// </summary>
public sealed partial class DatabaseUnavailableExceptionHandler(
    IProblemDetailsService problemDetails,
    ILogger<DatabaseUnavailableExceptionHandler> logger) : IExceptionHandler
{
    public const int RetryAfterSeconds = 2;

    public async ValueTask<bool> TryHandleAsync(HttpContext httpContext, Exception exception, CancellationToken cancellationToken)
    {
        if (!IsUnavailable(exception))
        {
            return false;
        }

        LogUnavailable(httpContext.Request.Method, httpContext.Request.Path, Innermost(exception).Message);
        httpContext.Response.StatusCode = StatusCodes.Status503ServiceUnavailable;
        httpContext.Response.Headers.RetryAfter = RetryAfterSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture);
        return await problemDetails.TryWriteAsync(new ProblemDetailsContext
        {
            HttpContext = httpContext,
            Exception = exception,
            ProblemDetails = new ProblemDetails
            {
                Status = StatusCodes.Status503ServiceUnavailable,
                Title = "Service unavailable",
                Detail = "The service's database is unavailable for the moment; nothing was changed. Retry shortly.",
            },
        });
    }

    /// <summary>Whether <paramref name="exception"/>, or one it wraps, says the database is unreachable for now.</summary>
    public static bool IsUnavailable(Exception exception)
    {
        for (Exception? current = exception; current is not null; current = current.InnerException)
        {
            switch (current)
            {
                case PostgresException postgres:
                    // Connection exceptions, insufficient resources, operator intervention (shutdown, crash, starting up).
                    return postgres.SqlState.StartsWith("08", StringComparison.Ordinal)
                        || postgres.SqlState.StartsWith("53", StringComparison.Ordinal)
                        || postgres.SqlState.StartsWith("57P", StringComparison.Ordinal);
                case NpgsqlException npgsql when npgsql.IsTransient:
                case SocketException or TimeoutException:
                    return true;
                case RetryLimitExceededException:
                    // EF Core gave up retrying transient failures; its inner exception is the last one.
                    return current.InnerException is null || IsUnavailable(current.InnerException);
            }
        }

        return false;
    }

    private static Exception Innermost(Exception exception) => exception.InnerException is { } inner ? Innermost(inner) : exception;

    [LoggerMessage(Level = LogLevel.Warning, Message = "{Method} {Path} answered 503: the database is unavailable ({Reason})")]
    private partial void LogUnavailable(string method, string path, string reason);
}
