from busybox
Label maintainer="A. Person" version=1.0 \
      description='multi word'
ENV PATH=/opt/bin:$PATH HOME=/root
env LEGACY value with spaces
EXPOSE 80/tcp 53/udp
VOLUME ["/data", "/logs"]
VOLUME /cache /tmp/x
USER 1000:1000
STOPSIGNAL SIGTERM
SHELL ["/bin/sh", "-ec"]
MAINTAINER someone@example.invalid
HEALTHCHECK --interval=30s --timeout=1m30s --start-period=5s --retries=3 CMD curl -f http://localhost/ || exit 1
HEALTHCHECK NONE
ONBUILD COPY . /app
ONBUILD RUN ["make", "install"]
