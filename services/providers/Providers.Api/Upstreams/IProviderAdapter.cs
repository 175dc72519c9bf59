namespace StitchFin.Providers.Upstreams;

/// <summary>One attempt at one target: the only code that talks to an upstream.</summary>
public interface IProviderAdapter
{
    /// <summary>
    /// Sends the request and passes the reply's text to <paramref name="sink"/> as it arrives. Upstream faults come back
    /// as results; the caller's token (the overall deadline, the caller going away) surfaces as
    /// <see cref="OperationCanceledException"/>.
    /// </summary>
    Task<AttemptResult> SendAsync(Target target, NormalizedRequest request, IContentSink sink, AttemptLimits limits, CancellationToken cancellationToken);
}
