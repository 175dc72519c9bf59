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
    [InlineData("lone \uD800 surrogate", true)]
    [InlineData("trailing high \uDBFF", true)]
    [InlineData("lone low \uDC00", false)]
    public void Unstorable_text_is_named(string text, bool multiline) => Assert.NotNull(TextRules.Problem(text, multiline));

    [Fact]
    public void Agent_names_and_prompts_and_message_content_apply_the_rules()
    {
        var errors = AgentValidator.Validate(new AgentRequest("evil\0name", "VendorA", null, "prompt with \0 inside"));
        Assert.Contains("name", errors.Keys);
        Assert.Contains("systemPrompt", errors.Keys);
        Assert.Empty(AgentValidator.Validate(new AgentRequest("fine", "VendorA", null, "multi\nline\tprompt")));
        Assert.Contains("content", MessageInput.Validate("hello\0", "text", null).Keys);
        Assert.Empty(MessageInput.Validate("hello\nworld", "text", null));
    }
}
