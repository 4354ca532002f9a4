# escape=`
# escape=\\
FROM busybox
