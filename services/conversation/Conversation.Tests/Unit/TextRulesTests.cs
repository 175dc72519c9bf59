using StitchFin.Conversation.Tests.Infrastructure;
using StitchFin.Conversation.Agents;
using StitchFin.Conversation.Messages;
using StitchFin.ServiceDefaults.Http;

namespace StitchFin.Conversation.Tests.Unit;

public sealed class TextRulesTests
{
    [Theory]
    [InlineData("plain", false)]
    [InlineData("emoji \U0001F916 and \u4f60\u597d", false)]
    [InlineData("Robert'); DROP TABLE agents;--", false)]
    [InlineData("line\nbreaks\tand tabs\r\n", true)]
    public void Storable_text_passes(string text, bool multiline) => Assert.Null(TextRules.Problem(text, multiline));

    [Theory]
    [InlineData("nul\0inside", true)]
    [InlineData("bell\u0007", true)]
    [InlineData("escape\u001b[31m", false)]
    [InlineData("c1 control\u0085", true)]
    [InlineData("line\nbreak", false)]
    public void Unstorable_text_is_named(string text, bool multiline) => Assert.NotNull(TextRules.Problem(text, multiline));

    [Fact]
    public void Unpaired_surrogates_are_named()
    {
        // Built at run time: theory data would pass through UTF-8 and arrive as U+FFFD.
        foreach (var text in new[] { "lone " + (char)0xD800 + " high", "trailing high " + (char)0xDBFF, (char)0xDC00 + " lone low" })
        {
            Assert.NotNull(TextRules.Problem(text, multiline: true));
        }

        Assert.Null(TextRules.Problem("pair " + char.ConvertFromUtf32(0x1F916), multiline: false));
    }

    [Fact]
    public void Agent_names_and_prompts_and_message_content_apply_the_rules()
    {
        var errors = AgentValidator.Validate(new AgentRequest("evil\0name", "VendorA", null, "prompt with \0 inside"), FakeProviders.DefaultCatalog);
        Assert.Contains("name", errors.Keys);
        Assert.Contains("systemPrompt", errors.Keys);
        Assert.Empty(AgentValidator.Validate(new AgentRequest("fine", "VendorA", null, "multi\nline\tprompt"), FakeProviders.DefaultCatalog));
        Assert.Contains("content", MessageInput.Validate("hello\0", "text", null).Keys);
        Assert.Empty(MessageInput.Validate("hello\nworld", "text", null));
    }
}
