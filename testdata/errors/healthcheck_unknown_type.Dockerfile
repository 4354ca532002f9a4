FROM busybox
HEALTHCHECK --interval=5s CONNECT tcp 80
