FROM debian:bookworm
WORKDIR /src
COPY . .
RUN ccache gcc -O2 -c main.c -o main.o
RUN CC="ccache gcc" make
