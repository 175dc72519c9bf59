using StitchFin.Tenancy;
using StitchFin.ServiceDefaults;

var builder = WebApplication.CreateBuilder(args);
builder.AddServiceDefaults("tenancy");
builder.AddApplicationServices();

var app = builder.Build();
app.MapDefaultEndpoints();
app.MapTenancyEndpoints();
app.Run();

public partial class Program;
