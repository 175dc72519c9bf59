using StitchFin.Conversation.Idempotency;
using StitchFin.Conversation.Messages;
using StitchFin.Conversation.Sessions;

namespace StitchFin.Conversation.Tests.Unit;

public sealed class MessageInputTests
{
    private static readonly Guid Session = Guid.Parse("0193a1b2-0000-7000-8000-000000000001");

    [Theory]
    [InlineData(null, "text", null, "content")]
    [InlineData("", "text", null, "content")]
    [InlineData("hi", "fax", null, "channel")]
    [InlineData("hi", null, null, "channel")]
    [InlineData("hi", "voice", "", "requestFingerprint")]
    public void Invalid_input_names_the_field(string? content, string? channel, string? fingerprint, string field)
    {
        var errors = MessageInput.Validate(content, channel, fingerprint);
        Assert.Equal([field], errors.Keys);
    }

    [Fact]
    public void Content_may_be_16000_characters_but_not_more()
    {
        Assert.Empty(MessageInput.Validate(new string('a', 16000), "text", null));
        Assert.Contains("content", MessageInput.Validate(new string('a', 16001), "text", null).Keys);
    }

    [Fact]
    public void Hash_tells_requests_apart_by_session_channel_and_content()
    {
        var hash = new MessageInput("hello", "text", null).Hash(Session);
        Assert.Equal(hash, new MessageInput("hello", "text", null).Hash(Session));
        Assert.NotEqual(hash, new MessageInput("hello!", "text", null).Hash(Session));
        Assert.NotEqual(hash, new MessageInput("hello", "voice", null).Hash(Session));
        Assert.NotEqual(hash, new MessageInput("hello", "text", null).Hash(Guid.NewGuid()));
        Assert.Equal(64, hash.Length);
    }

    [Fact]
    public void A_fingerprint_replaces_the_content_in_the_hash()
    {
        var hash = new MessageInput("first transcript", "voice", "abc123").Hash(Session);
        Assert.Equal(hash, new MessageInput("another transcript", "voice", "abc123").Hash(Session));
        Assert.NotEqual(hash, new MessageInput("first transcript", "voice", "abc124").Hash(Session));
        Assert.NotEqual(hash, new MessageInput("first transcript", "voice", null).Hash(Session));
    }

    [Theory]
    [InlineData(null, false)]
    [InlineData("", false)]
    [InlineData("k", true)]
    [InlineData(" ~!key-with spaces~ ", true)]
    [InlineData("tab\tkey", false)]
    [InlineData("del\u007fkey", false)]
    [InlineData("clé", false)]
    public void Idempotency_keys_are_printable_ascii(string? key, bool valid)
    {
        Assert.Equal(valid, IdempotencyKey.Problem(key) is null);
    }

    [Fact]
    public void Idempotency_keys_are_at_most_255_characters()
    {
        Assert.Null(IdempotencyKey.Problem(new string('k', 255)));
        Assert.NotNull(IdempotencyKey.Problem(new string('k', 256)));
    }

    [Theory]
    [InlineData(null, null, null, 50)]
    [InlineData(null, "1", null, 1)]
    [InlineData(null, "100", null, 100)]
    [InlineData("0193a1b2-0000-7000-8000-000000000001", null, "2026-11-27T22:30:00Z", 50)]
    public void Session_list_query_accepts_valid_values(string? agentId, string? limit, string? before, int expectedLimit)
    {
        var query = SessionListQuery.Parse(agentId, limit, before, null, out var errors);
        Assert.Empty(errors);
        Assert.Equal(expectedLimit, query.Limit);
        if (before is not null)
        {
            Assert.Equal(new DateTimeOffset(2026, 11, 27, 22, 30, 0, TimeSpan.Zero), query.Before);
        }
    }

    [Theory]
    [InlineData("nope", null, null, "agentId")]
    [InlineData(null, "0", null, "limit")]
    [InlineData(null, "101", null, "limit")]
    [InlineData(null, "-5", null, "limit")]
    [InlineData(null, "ten", null, "limit")]
    [InlineData(null, "", null, "limit")]
    [InlineData(null, null, "yesterday", "before")]
    [InlineData(null, null, null, "beforeId", "0193a1b2-0000-7000-8000-000000000001")]
    [InlineData(null, null, "2026-11-27T22:30:00Z", "beforeId", "not-a-uuid")]
    public void Session_list_query_rejects_bad_values(string? agentId, string? limit, string? before, string field, string? beforeId = null)
    {
        SessionListQuery.Parse(agentId, limit, before, beforeId, out var errors);
        Assert.Equal([field], errors.Keys);
    }
}
