# escape=`
FROM mcr.microsoft.com/windows/servercore
WORKDIR C:\app
RUN powershell -Command `
    Write-Host hello; `
    # a comment inside the continuation
    Write-Host world
COPY C:\src\ C:\dst\
