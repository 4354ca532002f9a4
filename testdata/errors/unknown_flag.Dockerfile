FROM busybox
COPY --chwon=1000 a /b
