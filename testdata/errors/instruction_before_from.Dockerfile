# comment
RUN echo hi
FROM busybox
