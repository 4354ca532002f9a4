FROM busybox
ENV --global A=b
