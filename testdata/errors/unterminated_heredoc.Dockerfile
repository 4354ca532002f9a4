FROM busybox
RUN <<EOF
echo hello
eof
