using StitchFin.Providers;
using StitchFin.Providers.Catalog;
using StitchFin.Providers.Completions;
using StitchFin.Providers.Vendors;
using StitchFin.ServiceDefaults;

var builder = WebApplication.CreateBuilder(args);
builder.AddServiceDefaults("providers");
builder.AddApplicationServices();

var app = builder.Build();
app.MapDefaultEndpoints();
app.MapVendorsApi();
app.MapCatalogApi();
app.MapCompletionsApi();
app.Run();

public partial class Program;
