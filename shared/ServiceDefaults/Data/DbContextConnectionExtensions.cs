using Microsoft.EntityFrameworkCore;
using Npgsql;

namespace StitchFin.ServiceDefaults.Data;

public static class DbContextConnectionExtensions
{
    /// <summary>
    /// Runs hand-written Npgsql commands on the context's pooled connection, under its retry-on-transient-failure
    /// strategy, so hot paths can send one prepared statement where EF would send several.
    /// <paramref name="operation"/> may run more than once; it must be safe to repeat (a single statement is).
    /// </summary>
    public static Task<TResult> WithConnectionAsync<TState, TResult>(
        this DbContext db,
        TState state,
        Func<NpgsqlConnection, TState, CancellationToken, Task<TResult>> operation,
        CancellationToken cancellationToken) =>
        db.Database.CreateExecutionStrategy().ExecuteAsync(
            (db, state, operation),
            static async (_, context, ct) =>
            {
                var (db, state, operation) = context;
                await db.Database.OpenConnectionAsync(ct);
                try
                {
                    return await operation((NpgsqlConnection)db.Database.GetDbConnection(), state, ct);
                }
                finally
                {
                    await db.Database.CloseConnectionAsync();
                }
            },
            verifySucceeded: null,
            cancellationToken);
}
