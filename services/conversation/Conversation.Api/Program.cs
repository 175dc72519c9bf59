using StitchFin.Conversation;
using StitchFin.ServiceDefaults;

var builder = WebApplication.CreateBuilder(args);
builder.AddServiceDefaults("conversation");
builder.AddApplicationServices();

var app = builder.Build();
app.MapDefaultEndpoints();
app.MapConversationEndpoints();
app.Run();

public partial class Program;
