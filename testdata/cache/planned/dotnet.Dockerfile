FROM mcr.microsoft.com/dotnet/sdk:8.0
WORKDIR /src
COPY app.csproj .
RUN dotnet restore
COPY . .
RUN dotnet publish -c Release -o /out
