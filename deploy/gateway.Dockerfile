# gateway service. Build from the repository root: docker build -f deploy/gateway.Dockerfile .
FROM node:20-bookworm-slim AS web
WORKDIR /web
COPY web/package.json web/package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY web/ ./
RUN npm run build

FROM mcr.microsoft.com/dotnet/sdk:10.0 AS build
WORKDIR /src
# Restore as its own layer: it reruns only when a project file or a package version changes.
COPY global.json Directory.Build.props Directory.Packages.props .editorconfig ./
COPY shared/Contracts/StitchFin.Contracts.csproj shared/Contracts/
COPY shared/ServiceDefaults/StitchFin.ServiceDefaults.csproj shared/ServiceDefaults/
COPY services/gateway/Gateway.Api/Gateway.Api.csproj services/gateway/Gateway.Api/
RUN dotnet restore services/gateway/Gateway.Api/Gateway.Api.csproj
COPY shared/ shared/
COPY services/gateway/Gateway.Api/ services/gateway/Gateway.Api/
RUN dotnet publish services/gateway/Gateway.Api/Gateway.Api.csproj -c Release --no-restore -o /app

FROM mcr.microsoft.com/dotnet/aspnet:10.0 AS final
COPY --from=web /web/dist ./dashboard
WORKDIR /app
COPY --from=build /app ./
ENV ASPNETCORE_URLS=http://+:8080 \
    ASPNETCORE_ENVIRONMENT=Production \
    DOTNET_gcServer=0
EXPOSE 8080
# The image's built-in unprivileged user.
USER $APP_UID
ENTRYPOINT ["dotnet", "StitchFin.Gateway.Api.dll"]
