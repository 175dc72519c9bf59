using StitchFin.Gateway;
using StitchFin.ServiceDefaults;

var builder = WebApplication.CreateBuilder(args);
builder.AddServiceDefaults("gateway");
builder.AddApplicationServices();

var app = builder.Build();
app.MapDefaultEndpoints();
app.MapGatewayEndpoints();
app.Run();

public partial class Program;
