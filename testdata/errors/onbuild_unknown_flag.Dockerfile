FROM busybox
ONBUILD COPY --form=build /a /b
