namespace StitchFin.Providers.Vendors;

// The simulated vendors' own HTTP API. A real vendor has its own wire format, known only to its adapter.

public sealed record VendorCompletionRequest(string? SystemPrompt, string? Content, string? User, string? RequestId);

public sealed record VendorCompletionResponse(string Text, int TokensIn, int TokensOut, int LatencyMs);

public sealed record VendorRateLimitedResponse(int RetryAfterMs);

public sealed record VendorErrorResponse(string Error);
