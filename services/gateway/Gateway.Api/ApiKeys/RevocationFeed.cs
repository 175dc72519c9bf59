using Microsoft.Extensions.Options;

namespace StitchFin.Gateway.ApiKeys;

/// <summary>
/// How far this edge is known to have heard every revocation. The proof is a probe the edge sends itself through its
/// revocation queue: a queue delivers in order, so when the probe comes back, every revocation the broker held before
/// the probe was sent has been consumed. The queue becoming ready is a proof too (the cache is cleared then). The
/// connection's own state is not, because a broken link can look connected until its heartbeat times out.
/// </summary>
public sealed class RevocationFeed(TimeProvider time, IOptions<EdgeOptions> options)
{
    private readonly TimeSpan _trustWhileDisconnected = options.Value.ApiKeys.TrustWhileDisconnected;
    private long _upToDateAsOfTicks = DateTimeOffset.MinValue.UtcTicks;

    /// <summary>Every revocation published before this moment has reached the edge; <c>MinValue</c> until the first proof.</summary>
    public DateTimeOffset UpToDateAsOf => new(Interlocked.Read(ref _upToDateAsOfTicks), TimeSpan.Zero);

    /// <summary>Where the edge's revocation queue receives, for the probes; set once the queue first exists.</summary>
    public Uri? Address { get; set; }

    /// <summary>Whether the feed was proven recently enough that cached verifications need no second look.</summary>
    public bool IsConnected => MayTrust(DateTimeOffset.MinValue, time.GetUtcNow());

    public void MarkUpToDate(DateTimeOffset asOf)
    {
        var ticks = asOf.UtcTicks;
        var current = Interlocked.Read(ref _upToDateAsOfTicks);
        // Probes may come back out of order; only a later proof moves the mark.
        while (ticks > current)
        {
            var seen = Interlocked.CompareExchange(ref _upToDateAsOfTicks, ticks, current);
            if (seen == current)
            {
                return;
            }

            current = seen;
        }
    }

    /// <summary>
    /// A verification may be used for <see cref="EdgeApiKeyOptions.TrustWhileDisconnected"/> after the later of itself and
    /// the last proof. A revocation before that moment is in tenancy's answer or has been heard; one after it is missed
    /// at most that long. While the feed is proven every probe interval, this never sends a key back to tenancy.
    /// </summary>
    public bool MayTrust(DateTimeOffset verifiedAt, DateTimeOffset now)
    {
        var upToDateAsOf = UpToDateAsOf;
        return now - (verifiedAt > upToDateAsOf ? verifiedAt : upToDateAsOf) <= _trustWhileDisconnected;
    }
}
