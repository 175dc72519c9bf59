using StitchFin.ServiceDefaults;
using StitchFin.Tenancy;
using StitchFin.Tenancy.Keys;
using StitchFin.Tenancy.Tenants;

var builder = WebApplication.CreateBuilder(args);
builder.AddServiceDefaults("tenancy");
builder.AddApplicationServices();

var app = builder.Build();
app.MapDefaultEndpoints();
app.MapTenantsApi();
app.MapKeysApi();
app.MapInternalKeysApi();
app.Run();

public partial class Program;
