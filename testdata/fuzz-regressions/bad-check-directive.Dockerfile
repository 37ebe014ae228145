# check=error=maybe
FROM busybox
