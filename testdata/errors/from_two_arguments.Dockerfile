FROM busybox base
