using StitchFin.Metering;
using StitchFin.ServiceDefaults;

var builder = WebApplication.CreateBuilder(args);
builder.AddServiceDefaults("metering");
builder.AddApplicationServices();

var app = builder.Build();
app.MapDefaultEndpoints();
app.MapMeteringEndpoints();
app.Run();

public partial class Program;
