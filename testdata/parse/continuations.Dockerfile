FROM busybox
RUN apt-get update && \
    # comment lines inside a continuation are dropped

    apt-get install -y \
        curl \
        git
COPY a \
     b \
     /dst/
RUN echo done \
