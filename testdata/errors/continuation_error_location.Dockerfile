FROM busybox
COPY --chown=1 \
     --chmood=644 \
     a /b
