namespace StitchFin.Providers.Adapters;

/// <summary>
/// One vendor behind a common shape. Adding a vendor means one adapter plus its configuration; the resilience
/// pipeline, telemetry and the completion API stay as they are.
/// </summary>
public interface IProviderAdapter
{
    /// <summary>The provider name agents use (see <c>ProviderNames</c>).</summary>
    string Name { get; }

    /// <summary>
    /// One call to the vendor. Vendor faults come back as a failed <see cref="ProviderCallResult"/>; cancellation
    /// (the per-attempt timeout, the overall deadline) surfaces as <see cref="OperationCanceledException"/>.
    /// </summary>
    Task<ProviderCallResult> CompleteAsync(NormalizedRequest request, CancellationToken cancellationToken);
}
