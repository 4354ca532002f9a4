ARG =value
FROM busybox
