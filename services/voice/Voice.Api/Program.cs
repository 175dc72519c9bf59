using StitchFin.Voice;
using StitchFin.ServiceDefaults;

var builder = WebApplication.CreateBuilder(args);
builder.AddServiceDefaults("voice");
builder.AddApplicationServices();

var app = builder.Build();
app.MapDefaultEndpoints();
app.MapVoiceEndpoints();
app.Run();

public partial class Program;
