FROM busybox
RUN <<EOF
echo "hello $USER"
EOF
RUN <<-"END" bash
	echo tab-stripped
	END
RUN cat <<A <<'B' > /out
first
A
second
B
COPY <<EOF /etc/motd
Welcome
EOF
COPY --chmod=755 <<run.sh <<'conf' /usr/local/bin/
#!/bin/sh
echo run
run.sh
key=value
conf
RUN ["cat", "<<EOF"]
