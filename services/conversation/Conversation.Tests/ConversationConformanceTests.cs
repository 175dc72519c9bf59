using StitchFin.Testing;

namespace StitchFin.Conversation.Tests;

public sealed class ConversationConformanceTests : InternalServiceConformance<Program>
{
    protected override string ProtectedPath => "/agents";

    protected override IReadOnlyList<string> ReadinessChecks => ["database", "masstransit-bus"];
}
