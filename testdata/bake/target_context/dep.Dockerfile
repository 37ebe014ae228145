FROM hoard-test/busybox:latest
RUN echo built by the dep target > /dep.txt
ENV FROM_DEP=1
