using StitchFin.Providers;
using StitchFin.ServiceDefaults;

var builder = WebApplication.CreateBuilder(args);
builder.AddServiceDefaults("providers");
builder.AddApplicationServices();

var app = builder.Build();
app.MapDefaultEndpoints();
app.MapProvidersEndpoints();
app.Run();

public partial class Program;
