using StitchFin.ServiceDefaults;
using StitchFin.Voice;
using StitchFin.Voice.Turns;

var builder = WebApplication.CreateBuilder(args);
builder.AddServiceDefaults("voice");
builder.AddApplicationServices();

var app = builder.Build();
app.MapDefaultEndpoints();
app.MapVoiceTurnsApi();
app.Run();

public partial class Program;
