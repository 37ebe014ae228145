FROM gradle:8-jdk17
WORKDIR /src
COPY . .
RUN gradle build --no-daemon
RUN ./gradlew assemble
